// Names of the simulated users, by region of their country. A few carry
// non-ASCII letters, as real profiles do.
#pragma once

#include <string_view>

namespace gw::sim {

struct NameTable {
  std::string_view first[12];
  std::string_view last[12];
};

// Indexed by the country's Region (places.h).
inline constexpr NameTable kNames[] = {
    {{"Priya", "Rahul", "Ananya", "Arjun", "Fatima", "Imran", "Sneha", "Vikram", "Ayesha", "Rohan", "Nusrat", "Sanjay"},
     {"Sharma", "Patel", "Khan", "Gupta", "Reddy", "Iyer", "Ahmed", "Hossain", "Shrestha", "Perera", "Singh", "Nair"}},
    {{"Maria", "Jose", "Angelica", "Mark", "Minh", "Linh", "Trang", "Budi", "Siti", "Dewi", "Kristine", "Paolo"},
     {"Santos", "Reyes", "Cruz", "Dela Cruz", "Nguyễn", "Trần", "Lê", "Wijaya", "Santoso", "Pratama", "Bautista",
      "Garcia"}},
    {{"Oleksandr", "Olena", "Dmytro", "Iryna", "Marko", "Jelena", "Andrei", "Ioana", "Łukasz", "Agnieszka", "Giorgi",
      "Anna"},
     {"Kovalenko", "Shevchenko", "Bondarenko", "Petrović", "Jovanović", "Popescu", "Ionescu", "Kowalski", "Nowak",
      "Wiśniewski", "Beridze", "Petrosyan"}},
    {{"Lukas", "Sophie", "Jonas", "Lena", "Pablo", "Lucía", "Thomas", "Marie", "Daan", "Emma", "Javier", "Clara"},
     {"Müller", "Schmidt", "Fischer", "García", "Martínez", "López", "Dubois", "Bernard", "de Vries", "Jansen",
      "Schneider", "Fernández"}},
    {{"Chinedu", "Ngozi", "Oluwaseun", "Amaka", "Wanjiru", "Kamau", "Thabo", "Nomvula", "Emeka", "Aisha", "Brian",
      "Faith"},
     {"Okafor", "Adeyemi", "Okonkwo", "Balogun", "Mwangi", "Otieno", "Njoroge", "Nkosi", "Dlamini", "Eze", "Bello",
      "Ochieng"}},
    {{"João", "Ana", "Lucas", "Mariana", "Camila", "Mateo", "Valentina", "Santiago", "Gabriel", "Juliana", "Diego",
      "Sofía"},
     {"Silva", "Santos", "Oliveira", "Souza", "Pereira", "Rodríguez", "González", "Gómez", "Hernández", "Ramírez",
      "Costa", "Fernandes"}},
    {{"James", "Emily", "Michael", "Sarah", "David", "Jessica", "Chris", "Olivia", "Daniel", "Hannah", "Ryan", "Megan"},
     {"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Clarke", "Walker",
      "O'Brien"}},
    {{"Mohamed", "Fatma", "Ahmed", "Mariam", "Reza", "Zahra", "Ali", "Leila", "Mehmet", "Elif", "Omar", "Yasmin"},
     {"Hassan", "Ibrahim", "Mahmoud", "Hosseini", "Ahmadi", "Karimi", "Yılmaz", "Kaya", "Demir", "Saleh", "Farouk",
      "Rahimi"}},
};

inline constexpr std::string_view kAgencySuffixes[] = {" Digital",    " Labs", " Studio",   " Solutions",
                                                       " & Partners", " Tech", " Creative", " Global"};

}  // namespace gw::sim
